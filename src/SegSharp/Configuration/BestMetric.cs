using SegSharp.Foundation;

namespace SegSharp.Configuration;

/// <summary>train.best_metric: the validation figure that picks best.ckpt and drives early stopping.</summary>
public enum BestMetric
{
    [OptionName("mean_dice")] MeanDice,
    [OptionName("mean_iou")] MeanIoU,
    [OptionName("pixel_accuracy")] PixelAccuracy,
    [OptionName("val_loss")] ValidationLoss,
}
