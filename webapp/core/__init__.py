"""What every layer uses: configuration, the database engine and transactions, the clock, translation, small
text helpers. Imports no other part of webapp."""
