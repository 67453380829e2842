using SegSharp.Foundation;

namespace SegSharp.Workflows;

/// <summary>Which part of a dataset <c>evaluate</c> measures.</summary>
public enum EvaluationSplit
{
    [OptionName("val")] Validation,
    [OptionName("train")] Train,
    [OptionName("all")] All,
}
