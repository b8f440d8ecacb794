"""The app's tabs and dialogs, one module each; they draw a snapshot and never
read the store themselves."""
