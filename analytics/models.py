"""Built in its own issue; the app exists so the layout and dependencies are fixed."""
