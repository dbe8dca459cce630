"""The shared web layer: layout, templates, static assets, sessions, CSRF and error mapping.
Each capability keeps its own routes; this package only holds what they all use."""
