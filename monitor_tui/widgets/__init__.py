"""Small widgets the views are built from."""
