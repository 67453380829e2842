using SegSharp.Training;

namespace SegSharp.Workflows;

/// <summary>How training ended and, when it was evaluated, the evaluation.</summary>
public sealed record TrainingOutcome(TrainingResult Training, EvaluationSummary? Evaluation);
