using System.Reflection;
using YamlDotNet.RepresentationModel;

namespace SegSharp.Configuration;

/// <summary>
/// The whole, validated, immutable configuration of a run. Built once by <see cref="Load"/>; everything below the
/// CLI receives it instead of reading files or the environment.
/// </summary>
public sealed record SegSharpConfig
{
    public required DataConfig Data { get; init; }
    public required IReadOnlyList<TransformSpec> TrainTransforms { get; init; }
    public required IReadOnlyList<TransformSpec> ValidationTransforms { get; init; }
    public required ModelConfig Model { get; init; }
    public required IReadOnlyList<LossTermSpec> Loss { get; init; }
    public required OptimizerConfig Optimizer { get; init; }
    public required ScheduleConfig Schedule { get; init; }
    public required TrainConfig Train { get; init; }
    public required EvaluationConfig Evaluation { get; init; }

    /// <summary>Experiment tracking (MLflow); never reaches the weights.</summary>
    public required TrackingConfig Tracking { get; init; }

    /// <summary>Absolute path of the run directory.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Where the config came from (a path, or "embedded:default").</summary>
    public required string Source { get; init; }

    /// <summary>The effective config as YAML: every value that was used, defaults included.</summary>
    public required string EffectiveYaml { get; init; }

    /// <summary>
    /// Where each value not left at its default came from: the config file (or, through <c>base:</c>, the recipe it
    /// inherits from) or "--set", by config path (<c>loss.terms[0].name</c>).
    /// </summary>
    public IReadOnlyDictionary<string, string> Origins { get; init; } = new Dictionary<string, string>();

    /// <summary>SHA-256 of everything that shapes training (the effective config without output.dir).</summary>
    public required string TrainingHash { get; init; }

    public const string DefaultRecipe = "default";

    /// <summary>
    /// Loads a config file (or the embedded default recipe when <paramref name="path"/> is null), applies
    /// <c>key.path=value</c> overrides, validates every value and rejects unknown keys.
    /// </summary>
    /// <remarks>A config file may inherit from another with <c>base:</c> (<see cref="RecipeInheritance"/>).</remarks>
    public static SegSharpConfig Load(string? path, IReadOnlyList<string>? overrides = null)
    {
        if (path is null)
            return Parse(ReadRecipe(DefaultRecipe), $"embedded:{DefaultRecipe}", Directory.GetCurrentDirectory(), overrides);
        if (!File.Exists(path))
            throw new ConfigException($"Config '{path}' does not exist. Pass --config with a YAML file (see configs/), or omit it for the built-in " +
                $"default.");
        // A file with no keys is a mistake (the wrong file, a failed copy), not a request for the defaults: say so.
        if (YamlDocument.ParseMapping(ReadConfigFile(path), path, "train:") is not { Children.Count: > 0 })
            throw new ConfigException($"Config '{path}' holds no settings (it is empty or only comments). Write the keys to change (see " +
                "configs/default.yaml), or omit --config for the built-in default.");
        var (tree, origins) = RecipeInheritance.Load(path, ReadConfigFile);
        return FromTree(tree, path, Path.GetDirectoryName(Path.GetFullPath(path))!, overrides, origins);
    }

    /// <summary>
    /// The format of stored effective configs (a run's config.yaml, a checkpoint's copy). Format 1 (before this was kept)
    /// wrote <c>model.encoder: resnet34</c> for every U-Net, which then had none: read with <see cref="ParseStored"/>.
    /// </summary>
    public const int StoredFormat = 2;

    /// <summary>The first line of a run's config.yaml; it names the stored format (<see cref="IsStoredFormat1"/> reads it back).</summary>
    public static string StoredHeader(string source) => $"# SegSharp effective config (source: {source}; config format {StoredFormat})";

    /// <summary>Whether a run's config.yaml text was written before stored formats were named (format 1).</summary>
    public static bool IsStoredFormat1(string configYamlText) =>
        !configYamlText.Split('\n', 2)[0].Contains($"config format {StoredFormat}", StringComparison.Ordinal);

    /// <summary>
    /// Reads a stored effective config. Format 1 U-Nets had no encoder whatever <c>model.encoder</c> said (it was
    /// DeepLabV3+'s key), so they are read as <c>model.encoder: none</c>: old runs resume and old checkpoints load as the
    /// models they are.
    /// </summary>
    public static SegSharpConfig ParseStored(string text, string source, string baseDirectory, bool format1, IReadOnlyList<string>? overrides = null)
    {
        var config = Parse(text, source, baseDirectory, overrides);
        if (!format1 || config.Model.Kind != ModelKind.UNet || !config.Model.HasEncoder) return config;
        return Parse(text, source, baseDirectory, new[] { "model.encoder=none" }.Concat(overrides ?? Array.Empty<string>()).ToList());
    }

    /// <summary>Reads config text (e.g. the copy inside a checkpoint); relative paths resolve against <paramref name="baseDirectory"/>.</summary>
    public static SegSharpConfig Parse(string text, string source, string baseDirectory, IReadOnlyList<string>? overrides = null)
    {
        var root = ParseTree(text, source);
        return FromTree(root, source, baseDirectory, overrides, RecipeInheritance.Leaves(root, "").ToDictionary(l => l, _ => source, StringComparer.Ordinal));
    }

    private static SegSharpConfig FromTree(YamlMappingNode root, string source, string baseDirectory, IReadOnlyList<string>? overrides,
        Dictionary<string, string> origins)
    {
        ConfigOverrides.Apply(root, overrides ?? Array.Empty<string>());
        foreach (var assignment in overrides ?? Array.Empty<string>()) origins[assignment.Split('=')[0].Trim()] = "--set";
        return Read(new ConfigSection(root, "", source), source, baseDirectory) with { Origins = origins };
    }

    /// <summary>Text of an embedded recipe from configs/ (e.g. "default").</summary>
    public static string ReadRecipe(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"SegSharp.Recipes.{name}.yaml")
            ?? throw new ConfigException($"No embedded recipe named '{name}'.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static YamlMappingNode ParseTree(string text, string source) =>
        YamlDocument.ParseMapping(text, source, "train:") ?? new YamlMappingNode();

    private static string ReadConfigFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"Config '{path}' cannot be read: {e.Message} Check its permissions, or pass another --config.");
        }
    }

    private static SegSharpConfig Read(ConfigSection root, string source, string baseDirectory)
    {
        var data = DataConfig.Read(root.Section("data"), baseDirectory);
        var transforms = root.Section("transforms");
        var train = transforms.Sections("train", TransformSpec.Example).Select(TransformSpec.Read).ToList();
        var validation = transforms.Sections("val", TransformSpec.Example).Select(TransformSpec.Read).ToList();
        var model = ModelConfig.Read(root.Section("model"), baseDirectory);
        var lossTerms = root.Section("loss").Sections("terms", LossTermSpec.Example, "[{ name: cross_entropy, weight: 1.0 }, { name: dice, weight: 1.0 }]")
            .Select(LossTermSpec.Read).ToList();
        if (lossTerms.Count == 0) throw new ConfigException($"{source}: loss.terms is empty; name at least one of {Foundation.OptionNames<LossKind>.Choices}.");
        if (model.HasEncoder && EncoderInput.NormalisesItself(model.Encoder) && train.Concat(validation).Any(t => t.Kind == TransformKind.Normalize))
            throw new ConfigException($"{source}: model.encoder mlnet-resnet18 normalises its input itself (pixels x 255 minus ML.NET's ImageNet " +
                "channel means); remove the normalize step from transforms.train and transforms.val.");
        var optimizer = OptimizerConfig.Read(root.Section("optimizer"));
        var schedule = ScheduleConfig.Read(root.Section("schedule"));
        var trainConfig = TrainConfig.Read(root.Section("train"));
        if (optimizer.EncoderLRFactor != 1 && !model.HasEncoder)
            throw new ConfigException($"{source}: optimizer.encoder_lr_factor applies to the encoder of {ModelConfig.EncoderModels}; model.name " +
                $"{Foundation.OptionNames<ModelKind>.Name(model.Kind)} has none. Remove it.");
        var evaluation = EvaluationConfig.Read(root.Section("evaluation"));
        var tracking = TrackingConfig.Read(root.Section("tracking"));
        var output = root.Section("output");
        // Relative output folders are relative to the working directory, where a person runs the command.
        string outputDirectory = Path.GetFullPath(output.GetString("dir", "runs/default"));
        root.Finish();
        var training = new YamlMappingNode();
        foreach (var (key, value) in root.Effective.Children)
            if (((YamlScalarNode)key).Value is not ("output" or "tracking")) training.Children[key] = value;
        return new SegSharpConfig
        {
            Data = data, TrainTransforms = train, ValidationTransforms = validation, Model = model, Loss = lossTerms,
            Optimizer = optimizer, Schedule = schedule, Train = trainConfig, Evaluation = evaluation, Tracking = tracking,
            OutputDirectory = outputDirectory, Source = source, EffectiveYaml = YamlText.Write(root.Effective),
            TrainingHash = Convert.ToHexString(
                System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(YamlText.Write(training)))).ToLowerInvariant(),
        };
    }
}
