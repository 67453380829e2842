using SegSharp.Configuration;
using SegSharp.Data;
using SegSharp.Evaluation;
using SegSharp.Foundation;
using SegSharp.Inference;
using SegSharp.Losses;
using SegSharp.Models;
using SegSharp.Training;
using SegSharp.Transforms;

namespace SegSharp.Workflows;

/// <summary>
/// "Evaluate a model": metrics, per-class CSV, confusion matrix, overlays, curves and report.html for a model file on a
/// dataset split. With a dataset given, only the model file and that dataset are read; without one, the validation
/// split of the dataset the model was trained on. The model is a checkpoint (libtorch) or an exported ONNX file (ONNX
/// Runtime: the file that is shipped, scored the same way; it needs the dataset given).
/// </summary>
public static class EvaluationWorkflow
{
    /// <param name="checkpoint">A .ckpt file, or a .onnx file from <c>segsharp export --format onnx</c>.</param>
    /// <param name="dataset">A dataset description YAML to evaluate on; null for the training dataset.</param>
    /// <param name="output">The report folder; null for the run's report/ folder (or ./report outside a run).</param>
    /// <param name="overrides"><c>key.path=value</c> changes to the embedded config (e.g. evaluation.tile_size=256).</param>
    public static ReportedEvaluation Run(string checkpoint, string? dataset = null, EvaluationSplit split = EvaluationSplit.Validation,
        string? output = null, IReadOnlyList<string>? overrides = null, bool overwrite = false)
    {
        if (PredictionWorkflow.IsOnnx(checkpoint)) return RunOnnx(checkpoint, dataset, split, output, overrides, overwrite);
        using var trained = TrainedModel.Load(checkpoint);
        string folder = Path.GetFullPath(output ?? trained.Run?.ReportDirectory ?? "report");
        GuardOutput(folder, trained.Run?.ReportDirectory, overwrite);
        var config = overrides is { Count: > 0 }
            ? SegSharpConfig.ParseStored(trained.State.ConfigYaml, $"{checkpoint} (embedded config)", Directory.GetCurrentDirectory(), trained.ConfigFormat1,
                overrides)
            : trained.Config;
        var data = OpenDataset(trained.Card, config, dataset);
        var chosen = Choose(data, split);
        var loss = WeightedLoss.Create(config.Loss, data.Description.IgnoreIndex, task: data.Description.Task);
        var decision = trained.Card.Decision with { Threshold = config.Evaluation.Threshold };
        // A model loaded for evaluation only: channels-last is safe here (never trained on or saved).
        string layout = ChannelsLast.Apply(trained.Model, config.Evaluation.MemoryFormat);
        var outcome = SplitEvaluator.Run(trained.Model, decision, chosen, OptionNames<EvaluationSplit>.Name(split),
            TransformPipeline.Create(config.ValidationTransforms), config.Evaluation, loss, config.Train.ValidationBatchSize, config.Data.Workers)
            with { MemoryFormat = layout };
        var run = trained.Run;
        int? bestEpoch = trained.State.BestEpoch >= 0 ? trained.State.BestEpoch + 1 : null;
        var curves = TrainingCurves.From(run?.ReadMetrics() ?? Array.Empty<EpochRecord>(), bestEpoch);
        string report = ReportWriter.Write(folder, outcome, curves, $"SegSharp evaluation: {data.Description.Name}", trained.CheckpointPath);
        return new ReportedEvaluation(outcome, report);
    }

    /// <summary>
    /// A folder that holds files is not written into unless told (--overwrite), except the checkpoint's own run report,
    /// which evaluating a run's checkpoint updates, as training does.
    /// </summary>
    private static void GuardOutput(string folder, string? runReport, bool overwrite)
    {
        if (overwrite || !Directory.Exists(folder) || !Directory.EnumerateFileSystemEntries(folder).Any()) return;
        if (runReport is not null && Path.GetFullPath(runReport) == folder) return;
        throw new SegSharpException($"Output '{folder}' exists and holds files; pass --overwrite to replace the report in it, or choose another --output.");
    }

    /// <summary>
    /// An exported ONNX model on a dataset, through ONNX Runtime: the same metrics, panels and report as its checkpoint
    /// (no validation loss: the file carries no loss settings; no curves: no run folder). Preprocessing and the evaluation
    /// settings (tiling, flip TTA) come from the file's metadata.
    /// </summary>
    private static ReportedEvaluation RunOnnx(string path, string? dataset, EvaluationSplit split, string? output, IReadOnlyList<string>? overrides,
        bool overwrite)
    {
        if (dataset is null)
            throw new SegSharpException($"evaluate --model '{path}' needs --data DATASET.yaml: an ONNX file does not record where its training data is.");
        if (overrides is { Count: > 0 })
            throw new SegSharpException($"--set changes a checkpoint's embedded config; the ONNX model '{path}' carries only its evaluation settings. " +
                "Evaluate the .ckpt to change them.");
        string folder = Path.GetFullPath(output ?? "report");
        GuardOutput(folder, null, overwrite);
        using var model = OnnxModel.Load(path);
        var data = OpenDataset(model.Card, null, dataset);
        var outcome = SplitEvaluator.Run(model, Choose(data, split), OptionNames<EvaluationSplit>.Name(split),
            TransformPipeline.Create(model.Card.Preprocessing), model.Evaluation, workers: 2) with { MemoryFormat = "n/a" };
        string report = ReportWriter.Write(folder, outcome, TrainingCurves.From(Array.Empty<EpochRecord>(), null),
            $"SegSharp evaluation: {data.Description.Name} (ONNX Runtime)", model.Path);
        return new ReportedEvaluation(outcome, report);
    }

    private static ISegmentationDataset Choose(ISegmentationDataset data, EvaluationSplit split)
    {
        var parts = DatasetSplit.Create(data);
        ISegmentationDataset chosen = split switch
        {
            EvaluationSplit.Validation => parts.Validation,
            EvaluationSplit.Train => parts.Train,
            EvaluationSplit.All => data,
        };
        if (chosen.Count == 0)
            throw new SegSharpException($"Split '{OptionNames<EvaluationSplit>.Name(split)}' of '{data.Description.Name}' is empty; choose --split all.");
        return chosen;
    }

    /// <param name="config">The checkpoint's config (for its training dataset when none is given); null for an ONNX model.</param>
    internal static ISegmentationDataset OpenDataset(Models.ModelCard card, SegSharpConfig? config, string? dataset, string verb = "evaluate")
    {
        if (dataset is null)
        {
            ArgumentNullException.ThrowIfNull(config);
            string training = config.Data.Dataset;
            if (!DatasetFactory.Exists(training))
                throw new SegSharpException($"The model's training dataset '{training}' is gone, and evaluating without --data needs its validation split. " +
                    $"Pass --data DATASET.yaml.");
            return DatasetFactory.Open(training);
        }
        var data = DatasetFactory.Open(dataset == ShapesDataset.Spec ? dataset : Path.GetFullPath(dataset));
        var expected = card.Classes.Select(c => c.Name).ToList();
        var found = data.Description.Classes.Select(c => c.Name).ToList();
        if (!expected.SequenceEqual(found, StringComparer.Ordinal))
            throw new SegSharpException($"Dataset '{dataset}' has classes [{string.Join(", ", found)}] but the model predicts " +
                $"[{string.Join(", ", expected)}]; {verb} on a dataset with the model's classes in the same order.");
        if (data.Description.Task != card.Task)
            throw new SegSharpException($"Dataset '{dataset}' has task: {OptionNames<SegmentationTask>.Name(data.Description.Task)} but the model is " +
                $"{OptionNames<SegmentationTask>.Name(card.Task)}; {verb} on a dataset of the model's task.");
        if (data.Description.Channels != card.InputChannels)
            throw new SegSharpException($"Dataset '{dataset}' has channels: {data.Description.Channels} but the model takes {card.InputChannels}; " +
                $"set channels: {card.InputChannels} in it.");
        return data;
    }
}
