"""The core: records, dates, fixtures, the store and its file. No HTTP and no Flask here."""
