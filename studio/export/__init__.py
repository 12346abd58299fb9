"""Export: ONNX, Core ML (.mlpackage / .mlmodel), checks of Core ML files where Core ML cannot run, and slow
exports in a cancellable child process."""
