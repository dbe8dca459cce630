"""Shared learning: projects (cases), challenges and solutions of the organisations."""
