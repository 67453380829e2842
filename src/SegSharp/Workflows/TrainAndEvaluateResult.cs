using SegSharp.Training;

namespace SegSharp.Workflows;

/// <summary>How training ended and, when it was evaluated, the evaluation.</summary>
public sealed record TrainAndEvaluateResult(TrainingResult Training, ReportedEvaluation? Evaluation);
