"""The pages, one module per section; each module's ``ROUTES`` lists its paths."""
