"""智能导人: importing residents, houses and buildings from XLSX or CSV with a dry run (docs/resident-import.md)."""
