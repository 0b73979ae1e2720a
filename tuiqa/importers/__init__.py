"""Reading other people's files: survey exports, codings spreadsheets, codebooks."""
