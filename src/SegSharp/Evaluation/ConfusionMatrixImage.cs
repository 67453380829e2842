using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegSharp.Evaluation;

/// <summary>
/// The confusion matrix as a heat map, each row normalised to the true class's pixel count (so the diagonal
/// reads as recall), with the percentage in each cell. Rows: truth; columns: prediction.
/// </summary>
internal static class ConfusionMatrixImage
{
    public static Image<Rgb24> Render(long[,] confusion)
    {
        int classes = confusion.GetLength(0);
        int cell = Math.Clamp(480 / Math.Max(1, classes), 24, 96);
        var image = new Image<Rgb24>(cell * classes + 2, cell * classes + 2, new Rgb24(255, 255, 255));
        for (int t = 0; t < classes; t++)
        {
            long row = 0;
            for (int p = 0; p < classes; p++) row += confusion[t, p];
            for (int p = 0; p < classes; p++)
            {
                double share = row == 0 ? 0 : (double)confusion[t, p] / row;
                var color = new Rgb24((byte)(255 - 215 * share), (byte)(255 - 155 * share), (byte)(255 - 35 * share));
                for (int y = 1; y < cell; y++)
                    for (int x = 1; x < cell; x++) image[1 + p * cell + x, 1 + t * cell + y] = color;
                string label = (share * 100).ToString(share >= 0.995 ? "0" : "0.0", System.Globalization.CultureInfo.InvariantCulture);
                int scale = cell >= 48 ? 2 : 1;
                var ink = share > 0.55 ? new Rgb24(255, 255, 255) : new Rgb24(30, 30, 30);
                PixelFont.Draw(image, label, 1 + p * cell + (cell - PixelFont.Width(label, scale)) / 2, 1 + t * cell + cell / 2 - 5 * scale / 2, ink, scale);
            }
        }
        return image;
    }
}
