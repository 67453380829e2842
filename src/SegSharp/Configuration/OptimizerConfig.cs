namespace SegSharp.Configuration;

/// <summary>Optimiser and its hyper-parameters.</summary>
public sealed record OptimizerConfig
{
    public required OptimizerKind Kind { get; init; }
    public required double LR { get; init; }
    public required double WeightDecay { get; init; }
    public required double Momentum { get; init; }
    public required bool Nesterov { get; init; }
    public required double Beta1 { get; init; }
    public required double Beta2 { get; init; }
    public required double Epsilon { get; init; }

    /// <summary>DeepLabV3+: the encoder's learning rate as a fraction of <see cref="LR"/> (a second parameter group); 1 = one group.</summary>
    public double EncoderLRFactor { get; init; } = 1;

    internal static OptimizerConfig Read(ConfigSection s)
    {
        var config = new OptimizerConfig
        {
            Kind = s.GetEnum("name", OptimizerKind.AdamW),
            LR = s.GetDouble("lr", 1e-3, 1e-12, 100),
            WeightDecay = s.GetDouble("weight_decay", 1e-4, 0, 10),
            Momentum = s.GetDouble("momentum", 0.9, 0, 0.9999),
            Nesterov = s.GetBool("nesterov", false),
            Beta1 = s.GetDouble("beta1", 0.9, 0, 0.99999),
            Beta2 = s.GetDouble("beta2", 0.999, 0, 0.99999999),
            Epsilon = s.GetDouble("eps", 1e-8, 1e-16, 1),
            EncoderLRFactor = s.GetDouble("encoder_lr_factor", 1, 0, 1),
        };
        if (config.Nesterov && (config.Kind != OptimizerKind.Sgd || config.Momentum == 0))
            throw s.Error("nesterov", "true", "true only with name: sgd and momentum > 0");
        return config;
    }
}
