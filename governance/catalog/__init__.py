"""The A08/A11 catalogue: tables found in the store (`scan`), described by their contracts and
Delta metadata (`entries`), printed for people (`render`)."""
