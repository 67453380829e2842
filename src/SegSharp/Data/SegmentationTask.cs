using SegSharp.Foundation;

namespace SegSharp.Data;

/// <summary>
/// task: what a pixel's label is. Multiclass: exactly one class (softmax, argmax). Multilabel: any set of classes, each
/// present or absent on its own (a sigmoid per class, a threshold), for classes that overlap.
/// </summary>
public enum SegmentationTask
{
    [OptionName("multiclass")] Multiclass,
    [OptionName("multilabel")] Multilabel,
}
