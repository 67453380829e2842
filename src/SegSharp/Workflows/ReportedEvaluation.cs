using SegSharp.Evaluation;

namespace SegSharp.Workflows;

/// <summary>What an evaluation measured and where its report.html is.</summary>
public sealed record ReportedEvaluation(EvaluatedSplit Outcome, string ReportPath);
