namespace SegSharp.Models;

/// <summary>One class of a <see cref="ModelCard"/>: its name, the mask value that encodes it, its RGB display colour.</summary>
public sealed record ModelCardClass(string Name, int Value, int[] Color);
