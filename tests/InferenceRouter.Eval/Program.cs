using InferenceRouter.Eval;

return await EvalCommands.RunAsync(args);
