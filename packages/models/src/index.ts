// @loom/models: many small models at once. A split spec names one slice of a dataset per row; a model family
// fits and scores one slice over plain typed arrays (inside task threads); the model store keeps many models
// per group in a few Arrow files, versioned and published atomically.
export {};
