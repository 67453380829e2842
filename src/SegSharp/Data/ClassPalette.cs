namespace SegSharp.Data;

/// <summary>Distinct display colours for classes that name none.</summary>
public static class ClassPalette
{
    private static readonly byte[][] Colors =
    {
        new byte[] { 0, 0, 0 }, new byte[] { 230, 25, 75 }, new byte[] { 60, 180, 75 }, new byte[] { 255, 225, 25 },
        new byte[] { 0, 130, 200 }, new byte[] { 245, 130, 48 }, new byte[] { 145, 30, 180 }, new byte[] { 70, 240, 240 },
        new byte[] { 240, 50, 230 }, new byte[] { 210, 245, 60 }, new byte[] { 250, 190, 212 }, new byte[] { 0, 128, 128 },
    };

    public static byte[] Default(int index)
    {
        if (index < Colors.Length) return (byte[])Colors[index].Clone();
        // Beyond the table: spread hues by the golden angle.
        double hue = index * 137.508 % 360 / 60.0;
        double x = 1 - Math.Abs(hue % 2 - 1);
        (double r, double g, double b) = (int)hue switch
        {
            0 => (1.0, x, 0.0), 1 => (x, 1.0, 0.0), 2 => (0.0, 1.0, x), 3 => (0.0, x, 1.0), 4 => (x, 0.0, 1.0), _ => (1.0, 0.0, x),
        };
        return new[] { (byte)(r * 220), (byte)(g * 220), (byte)(b * 220) };
    }
}
