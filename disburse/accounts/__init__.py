"""Accounts and roles: who may act, with which role, proven by a password on the web and named by
``--user`` on the command line. It sits just above the foundation, so every stage and both faces
can ask it whether a name may do an action; it knows no households, rules or banks."""
