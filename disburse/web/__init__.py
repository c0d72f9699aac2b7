"""The web application: server-rendered Chinese pages for the counter, the monthly work, review,
payment and audit, on the same service functions as the command line. It adds no business
logic: each page parses a form, checks the account's role, calls a stage's service function in
one transaction and renders what it returns."""
