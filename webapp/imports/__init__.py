"""CSV import and export of units (format: docs/csv-format.md)."""
