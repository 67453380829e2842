namespace SegSharp.Configuration;

/// <summary>Where samples come from and how they are loaded.</summary>
public sealed record DataConfig
{
    /// <summary>The built-in synthetic dataset's name in <c>data.dataset</c>.</summary>
    public const string BuiltinShapes = "builtin:shapes";

    /// <summary>Absolute path of a dataset description (YAML), or <see cref="BuiltinShapes"/>.</summary>
    public required string Dataset { get; init; }

    /// <summary>Background threads that decode and augment batches; 0 loads on the training thread.</summary>
    public required int Workers { get; init; }

    /// <summary>Batches prepared ahead of training at most; bounds the loader's memory.</summary>
    public required int Prefetch { get; init; }

    internal static DataConfig Read(ConfigSection s, string baseDirectory)
    {
        string dataset = s.GetString("dataset", BuiltinShapes);
        if (!dataset.StartsWith("builtin:", StringComparison.Ordinal))
        {
            dataset = Path.GetFullPath(Path.Combine(baseDirectory, dataset));
            s.RecordEffective("dataset", dataset);
        }
        else if (dataset != BuiltinShapes)
            throw s.Error("dataset", dataset, $"a dataset YAML path or {BuiltinShapes}");
        return new DataConfig
        {
            Dataset = dataset,
            Workers = s.GetInt("workers", 2, 0, 64),
            Prefetch = s.GetInt("prefetch", 4, 1, 256),
        };
    }
}
