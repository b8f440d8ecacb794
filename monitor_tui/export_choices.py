"""What an export can be: its formats and groupings, for the command line's parser
to offer without loading the export code itself."""

FORMATS = {"csv": "CSV", "json": "JSON", "md": "Markdown report"}
"""The formats, by name, with what a person calls them."""

GROUPINGS = ("hour", "day", "model", "project", "api_key")
"""What the rows of an export can be grouped by, in the order forms offer them."""
