namespace SegSharp.Data;

/// <summary>One class: its index (position in the list), name, the mask value or colour that encodes it, and its display colour.</summary>
public sealed record ClassInfo(int Index, string Name, int Value, byte[] Color);
