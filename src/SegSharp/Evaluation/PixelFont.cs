using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegSharp.Evaluation;

/// <summary>
/// A 3x5 pixel font for numbers (0-9 . - e %), enough for axis ticks and matrix cells in PNG charts; the HTML
/// report carries all other text. No font library is needed.
/// </summary>
internal static class PixelFont
{
    private static readonly Dictionary<char, string> Glyphs = new()
    {
        ['0'] = "111101101101111", ['1'] = "010110010010111", ['2'] = "111001111100111", ['3'] = "111001111001111",
        ['4'] = "101101111001001", ['5'] = "111100111001111", ['6'] = "111100111101111", ['7'] = "111001010010010",
        ['8'] = "111101111101111", ['9'] = "111101111001111", ['.'] = "000000000000010", ['-'] = "000000111000000",
        ['e'] = "000111111100111", ['%'] = "101001010100101", [' '] = "000000000000000",
    };

    /// <summary>Width in pixels of <paramref name="text"/> at <paramref name="scale"/>.</summary>
    public static int Width(string text, int scale) => text.Length * 4 * scale - scale;

    public static void Draw(Image<Rgb24> image, string text, int left, int top, Rgb24 color, int scale = 2)
    {
        int x0 = left;
        foreach (char ch in text)
        {
            if (Glyphs.TryGetValue(ch, out var glyph))
            {
                for (int row = 0; row < 5; row++)
                    for (int col = 0; col < 3; col++)
                    {
                        if (glyph[row * 3 + col] != '1') continue;
                        for (int dy = 0; dy < scale; dy++)
                            for (int dx = 0; dx < scale; dx++)
                            {
                                int x = x0 + col * scale + dx, y = top + row * scale + dy;
                                if (x >= 0 && y >= 0 && x < image.Width && y < image.Height) image[x, y] = color;
                            }
                    }
            }
            x0 += 4 * scale;
        }
    }
}
