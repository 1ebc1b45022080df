"""Units as data: the vocabulary, canonical values, validation, diff and apply, and who may edit what."""
