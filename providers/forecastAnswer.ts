/**
 * The forecast answer every forecasting strategy asks for. The JSON Schema
 * sent to models carries types only; the ranges are checked here, by the
 * harness, because a schema-valid answer with probability -5.1 (which the tiny
 * local model happily produces) is malformed output, not a forecast.
 */
import { z } from "zod";
import type { JsonSchema } from "./provider.ts";

export const forecastAnswerJsonSchema: JsonSchema = {
  type: "object",
  properties: {
    probability: { type: "number", description: "probability that the market resolves YES, between 0 and 1" },
    confidence: { type: "number", description: "confidence in this forecast, between 0 and 1" },
    rationale: { type: "string" },
  },
  required: ["probability", "confidence", "rationale"],
  additionalProperties: false,
};

export const forecastAnswerSchema = z.object({
  probability: z.number().min(0).max(1),
  confidence: z.number().min(0).max(1),
  rationale: z.string(),
});

export type ForecastAnswer = z.infer<typeof forecastAnswerSchema>;

/** What the router needs to ask for and check a structured answer. */
export interface AnswerSpec<T> {
  name: string;
  jsonSchema: JsonSchema;
  validate: z.ZodType<T>;
}

export const forecastAnswer: AnswerSpec<ForecastAnswer> = {
  name: "forecast",
  jsonSchema: forecastAnswerJsonSchema,
  validate: forecastAnswerSchema,
};
