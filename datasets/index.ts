/**
 * The datasets API other parts use: read a dataset (manifest, table paths,
 * content hash), check it, summarise it, and the importers.
 */
export * from "./format.ts";
export { readManifest, tablePath, presentTables, datasetHash, ManifestError } from "./manifest.ts";
export { validateDataset, formatValidationProblem, type ValidationProblem, type ValidationReport } from "./validate.ts";
export { datasetInfo, formatInfo, type DatasetInfo } from "./info.ts";
export { DatasetWriter, withDatasetWriter, DatasetValidationError, type ManifestHead } from "./datasetWriter.ts";
export { InputError, type InputProblem } from "./inputError.ts";
export { importKalshi, detectKalshiLayout, type ImportKalshiOptions } from "./importers/kalshi.ts";
export { importNews, type ImportNewsOptions } from "./importers/news.ts";
export { importForecastBench } from "./importers/forecastbench.ts";
