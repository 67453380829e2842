namespace SegSharp.Data;

/// <summary>
/// Reads a multilabel dataset's masks into <see cref="LabelBits"/>: with mask_layout folders, one binary mask per class
/// in <c>masks/&lt;class name&gt;/</c> by the image's stem; with bands, the bands of the paired mask file in class order.
/// A value of 0 is absent and any other present; a value in ignore_values (folders) leaves the pixel out for every class.
/// </summary>
public sealed class MultiLabelMasks
{
    private readonly DatasetDescription _description;
    private readonly Dictionary<string, string>[]? _byClass;
    private readonly HashSet<int> _ignore;

    public MultiLabelMasks(DatasetDescription description)
    {
        _description = description;
        _ignore = description.IgnoreValues.ToHashSet();
        if (description.MaskLayout != MaskLayout.Folders) return;
        _byClass = description.Classes.Select(c =>
        {
            string folder = Path.Combine(description.MasksDirectory, c.Name);
            if (!Directory.Exists(folder))
                throw new SegSharpException($"Dataset '{description.SourcePath}': class '{c.Name}' has no mask folder '{folder}'. With task: multilabel " +
                    "and mask_layout: folders every class has a folder of binary masks under masks, named as the class.");
            return DatasetListing.ByStem(folder, $"masks/{c.Name}");
        }).ToArray();
    }

    /// <summary>The masks a pair reads: every class's file (folders) or the paired file itself (bands).</summary>
    public IReadOnlyList<string> Files(string stem, string pairedMask)
    {
        if (_byClass is null) return new[] { pairedMask };
        var files = new string[_byClass.Length];
        for (int c = 0; c < files.Length; c++)
        {
            if (!_byClass[c].TryGetValue(stem, out string? file))
            {
                string folder = Path.Combine(_description.MasksDirectory, _description.Classes[c].Name);
                throw new SegSharpException($"Image '{stem}' has no mask for class '{_description.Classes[c].Name}' in '{folder}'. Add one (all zeros " +
                    "where the class is absent) or remove the image.");
            }
            files[c] = file;
        }
        return files;
    }

    /// <summary>The pair's labels as bits, [height, width].</summary>
    public (int[] Bits, int Height, int Width) Read(string stem, string pairedMask, bool verify = true)
    {
        int classes = _description.ClassCount;
        long limit = _description.MaxImagePixels;
        if (_byClass is null)
        {
            var (bands, h, w) = ImageFiles.ReadImage(pairedMask, classes, verify, limit, ImageFiles.ClassCount);
            int plane = h * w;
            var result = new int[plane];
            for (int c = 0; c < classes; c++)
                for (int i = 0; i < plane; i++)
                    if (bands[c * plane + i] > 0) result[i] |= 1 << c;
            return (result, h, w);
        }
        var files = Files(stem, pairedMask);
        int[]? bits = null;
        int height = 0, width = 0;
        for (int c = 0; c < classes; c++)
        {
            var (raw, h, w) = ImageFiles.ReadMaskValues(files[c], rgb: false, palette: false, verify, limit);
            if (bits is null) (bits, height, width) = (new int[raw.Length], h, w);
            else if ((h, w) != (height, width))
                throw new SegSharpException($"Mask '{files[c]}' is {w}x{h} but '{files[0]}' of the same image is {width}x{height}. A pair's class masks " +
                    "must all have its image's size.");
            for (int i = 0; i < raw.Length; i++)
            {
                if (bits[i] == LabelBits.Ignore) continue;
                if (_ignore.Contains(raw[i])) bits[i] = LabelBits.Ignore;
                else if (raw[i] != 0) bits[i] |= 1 << c;
            }
        }
        return (bits!, height, width);
    }
}
