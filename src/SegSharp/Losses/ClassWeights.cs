namespace SegSharp.Losses;

/// <summary>The check every loss with <c>class_weights</c> makes against the model's logits.</summary>
internal static class ClassWeights
{
    /// <summary>Refuses weights whose count is not the model's class count, naming the loss and both counts.</summary>
    public static void Check(double[]? weights, long classes, string loss)
    {
        if (weights is not null && weights.Length != classes)
            throw new SegSharpException($"loss {loss} class_weights has {weights.Length} values but the model predicts {classes} classes. Give one " +
                "weight per class.");
    }
}
