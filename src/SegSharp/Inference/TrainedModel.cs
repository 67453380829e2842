using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Models;
using SegSharp.Training;

namespace SegSharp.Inference;

/// <summary>
/// A model rebuilt from a checkpoint alone: the checkpoint carries the effective config, from which the model is
/// constructed, and the weights, which are then loaded. The checksum is verified first.
/// </summary>
public sealed class TrainedModel : IDisposable
{
    private TrainedModel(SegSharpConfig config, SegmentationModel model, TrainingState state, string path)
    {
        Config = config;
        Model = model;
        State = state;
        CheckpointPath = path;
    }

    public SegSharpConfig Config { get; }
    public SegmentationModel Model { get; }
    public TrainingState State { get; }
    public string CheckpointPath { get; }

    /// <summary>The run directory the checkpoint sits in (…/run/checkpoints/x.ckpt), if it looks like one.</summary>
    public RunDirectory? Run
    {
        get
        {
            string? run = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(CheckpointPath)));
            return run is not null && File.Exists(Path.Combine(run, "config.yaml")) ? new RunDirectory(run) : null;
        }
    }

    /// <param name="dataset">Another dataset description to evaluate on (its classes must match in number).</param>
    public static TrainedModel Load(string path, string? dataset = null)
    {
        if (!File.Exists(path))
            throw new SegSharpException($"Checkpoint '{path}' does not exist. Pass a .ckpt from a run's checkpoints folder (best.ckpt or last.ckpt).");
        TrainingState state;
        byte[] weights;
        try
        {
            (state, weights, _) = Checkpoint.Parse(File.ReadAllBytes(path));
        }
        catch (InvalidDataException e)
        {
            throw new SegSharpException($"Checkpoint '{path}' is unusable: {e.Message}. Use the run's previous.ckpt or last.ckpt.");
        }
        if (state.ConfigYaml.Length == 0) throw new SegSharpException($"Checkpoint '{path}' carries no config; it was not written by this SegSharp version.");
        var overrides = dataset is null ? Array.Empty<string>() : new[] { $"data.dataset={Path.GetFullPath(dataset)}" };
        var config = SegSharpConfig.Parse(state.ConfigYaml, $"{path} (embedded config)", Directory.GetCurrentDirectory(), overrides);
        var description = DatasetFactory.Open(config.Data.Dataset).Description;
        var model = ModelFactory.Create(config.Model, description.Channels, description.ClassCount, config.Train.Seed);
        try
        {
            using var guard = Runtime.NativeScalarGuard.Enter();
            Checkpoint.LoadModel(model, weights);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            model.Dispose();
            throw new SegSharpException($"Checkpoint '{path}' does not fit the model its config describes ({e.Message.Split('\n')[0]}). Was --data given a dataset with another class count?");
        }
        model.eval();
        return new TrainedModel(config, model, state, path);
    }

    public void Dispose() => Model.Dispose();
}
