using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Models;
using SegSharp.Runtime;
using SegSharp.Training;

namespace SegSharp.Inference;

/// <summary>
/// A model rebuilt from a checkpoint file alone: its <see cref="ModelCard"/> says how to build the network and
/// what the classes are, the weights are then loaded; the checksum is verified first. The training dataset is
/// never opened. Checkpoints written before model cards (format 1) load only while their training dataset is
/// still where it was, and say so otherwise.
/// </summary>
public sealed class TrainedModel : IDisposable
{
    private TrainedModel(ModelCard card, SegSharpConfig config, SegmentationModel model, TrainingState state, string path)
    {
        Card = card;
        Config = config;
        Model = model;
        State = state;
        CheckpointPath = path;
    }

    /// <summary>What the model is and what its classes are.</summary>
    public ModelCard Card { get; }

    /// <summary>The training config embedded in the checkpoint (validation transforms, loss, evaluation defaults).</summary>
    public SegSharpConfig Config { get; }

    /// <summary>The checkpoint's config was stored before configs named their format (read it with <see cref="SegSharpConfig.ParseStored"/>).</summary>
    public bool ConfigFormat1 { get; private init; }
    public SegmentationModel Model { get; }
    public TrainingState State { get; }
    public string CheckpointPath { get; }

    /// <summary>The run directory the checkpoint sits in (…/run/checkpoints/x.ckpt), if it looks like one.</summary>
    public RunDirectory? Run
    {
        get
        {
            string? run = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(CheckpointPath)));
            return run is not null && RunDirectory.IsRun(run) ? new RunDirectory(run, create: false) : null;
        }
    }

    public static TrainedModel Load(string path)
    {
        if (!File.Exists(path))
            throw new SegSharpException($"Checkpoint '{path}' does not exist. Pass a .ckpt from a run's checkpoints folder (best.ckpt or last.ckpt).");
        CheckpointContents contents;
        try
        {
            contents = Checkpoint.Parse(File.ReadAllBytes(path));
        }
        catch (InvalidDataException e)
        {
            throw new SegSharpException($"Checkpoint '{path}' is unusable: {e.Message}. Use the run's previous.ckpt or last.ckpt.");
        }
        contents.Card?.Check(path);
        var state = contents.State;
        if (state.ConfigYaml.Length == 0) throw new SegSharpException($"Checkpoint '{path}' carries no config; it was not written by SegSharp 0.1 or later.");
        bool format1 = contents.Card is not { Format: >= 2 };
        var config = SegSharpConfig.ParseStored(state.ConfigYaml, $"{path} (embedded config)", Directory.GetCurrentDirectory(), format1);
        var version1Dataset = contents.Card is null ? Version1Dataset(path, config) : null;
        TorchRuntime.EnsureLoaded();
        var model = contents.Card?.Upgraded() is { } stored
            ? ModelFactory.Create(stored.Model, stored.InputChannels, stored.ClassCount, config.Train.Seed)
            : ModelFactory.Create(config.Model, version1Dataset!.Channels, version1Dataset.ClassCount, config.Train.Seed);
        var card = contents.Card?.Upgraded() ?? ModelCard.Describe(config, version1Dataset!, model.Stride, "before 0.2 (checkpoint format 1)");
        try
        {
            using var guard = NativeScalarGuard.Enter();
            Checkpoint.LoadModel(model, contents.Model);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            model.Dispose();
            throw new SegSharpException($"Checkpoint '{path}' holds weights that do not fit the model its card describes ({e.Message.Split('\n')[0]}); the " +
                $"file is damaged or was edited.");
        }
        model.eval();
        return new TrainedModel(card, config, model, state, path) { ConfigFormat1 = format1 };
    }

    /// <summary>A format-1 checkpoint has no card: its classes come from the training dataset, if it is still there.</summary>
    private static DatasetDescription Version1Dataset(string path, SegSharpConfig config)
    {
        string dataset = config.Data.Dataset;
        if (!DatasetFactory.Exists(dataset))
            throw new SegSharpException($"Checkpoint '{path}' was written before checkpoints carried their classes and needs its training dataset " +
                $"'{dataset}', which is gone. Put the dataset back there, or retrain with this SegSharp.");
        return DatasetFactory.Open(dataset).Description;
    }

    public void Dispose() => Model.Dispose();
}
