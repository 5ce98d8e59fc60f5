"""The `onewindow` command line: `main.py` assembles it, one module per resource."""
