"""The bundled real-data demo region (Møre og Romsdal and the rest of Norway, Sweden, Poland)."""
