export { toPyTorch, pythonModule, importsFor, type ToPyTorchOptions, type ModuleContents, type BuildFunction } from './module.js';
export { PyTorchExportError, lowerFlow, pytorchKinds, overrideOf, type PyTorchKinds } from './emit.js';
export { pytorchOverrides, keptForSpeed, type Override, type OverrideTable, type KeptForSpeed } from './overrides.js';
export { GeneratedClasses } from './generated-classes.js';
export { pythonOps, PythonWriter } from './ops.js';
export { pythonLibrary, runtimeLibrary, runtimeFor, type PythonLibrary, type PythonDefinition } from './runtime.js';
