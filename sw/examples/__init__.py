"""Example assembly programs (data files; see vector_demo.s)."""
