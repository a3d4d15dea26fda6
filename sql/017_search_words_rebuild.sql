-- Search words now split at Unicode's punctuation and spaces (General Punctuation, CJK Symbols
-- and Punctuation, U+FEFF: domain/search.c, 2026-11-30): a read model built before holds words
-- such as “lamp” with their curly quotes, which no search finds. A new generation makes the
-- projector rebuild the read model from the outbox when it next looks (README, "Read model
-- generations"); on a new database it is simply the generation the first build gets.
UPDATE projector_state SET generation = generation + 1;
