/**
 * A GBNF grammar for the forecast answer, for local models (llama.cpp).
 * The JSON-schema grammar constrains types only, and a tiny model then
 * writes `"probability": -5.1` (issue 13: every answer of the bundled
 * stories260K model was out of range, so the demo's model row was dashes).
 * This grammar admits only what forecastAnswerSchema accepts: probability and
 * confidence in [0, 1] with at most four decimals, and a short plain-text
 * rationale, in the fixed key order the prompt shows.
 */

/** Longest rationale the grammar admits, in characters: a tiny model would otherwise ramble until max tokens. */
export const LOCAL_RATIONALE_MAX = 32;

export const FORECAST_ANSWER_GBNF = String.raw`root ::= "{\"probability\":" unit ",\"confidence\":" unit ",\"rationale\":\"" text "\"}"
unit ::= "0" ("." [0-9]{1,4})? | "1" ("." "0"{1,4})?
text ::= [a-zA-Z0-9 ,.;:'!?()-]{0,${LOCAL_RATIONALE_MAX}}
`;

/** Hand-written grammars by answer name; other answers use the JSON-schema grammar. */
export const LOCAL_ANSWER_GRAMMARS: Readonly<Record<string, string>> = { forecast: FORECAST_ANSWER_GBNF };
