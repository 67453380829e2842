namespace SegSharp.Configuration;

/// <summary>Learning-rate schedule, stepped once per optimiser step (iteration).</summary>
public sealed record ScheduleConfig
{
    public required ScheduleKind Kind { get; init; }

    /// <summary>Iterations of linear warm-up from 0 to the base LR.</summary>
    public required int WarmupIterations { get; init; }

    /// <summary>step: iterations between decays.</summary>
    public required int StepSize { get; init; }

    /// <summary>step: multiplicative decay.</summary>
    public required double Gamma { get; init; }

    /// <summary>poly: exponent of (1 - t/T).</summary>
    public required double Power { get; init; }

    /// <summary>cosine and poly: LR floor as a fraction of the base LR.</summary>
    public required double MinFactor { get; init; }

    internal static ScheduleConfig Read(ConfigSection s) => new()
    {
        Kind = s.GetEnum("name", ScheduleKind.Cosine),
        WarmupIterations = s.GetInt("warmup_iters", 0, 0),
        StepSize = s.GetInt("step_size", 1000, 1),
        Gamma = s.GetDouble("gamma", 0.1, 0, 1),
        Power = s.GetDouble("power", 0.9, 0, 100),
        MinFactor = s.GetDouble("min_factor", 0.0, 0, 1),
    };
}
