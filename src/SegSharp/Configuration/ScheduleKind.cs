using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>schedule.name: the learning-rate decay after warm-up.</summary>
public enum ScheduleKind
{
    [OptionName("constant")] Constant,
    [OptionName("step")] Step,
    [OptionName("poly")] Poly,
    [OptionName("cosine")] Cosine,
}
