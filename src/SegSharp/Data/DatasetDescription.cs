using SegSharp.Configuration;

namespace SegSharp.Data;

/// <summary>
/// A dataset's description (YAML beside or pointing at the data): where images and masks are, how masks encode
/// classes, what to ignore and how to split. Paths are absolute once loaded.
/// </summary>
public sealed record DatasetDescription
{
    public required string Name { get; init; }
    public required string SourcePath { get; init; }
    public required string Root { get; init; }
    public required string ImagesDirectory { get; init; }
    public required string MasksDirectory { get; init; }

    /// <summary>
    /// Bands per image: 1 (grayscale) and 3 (RGB) convert any one-page image on load; other counts (2, 4 and up to 64) are
    /// read as stored, from PNGs with alpha, RGBA TIFFs or multi-page TIFFs (<see cref="ImageFiles.ReadImage"/>).
    /// </summary>
    public required int Channels { get; init; }

    /// <summary>The most bands an image may have (a model card's limit too).</summary>
    public const int MaxChannels = 64;

    public required MaskEncoding MaskEncoding { get; init; }
    public required IReadOnlyList<ClassInfo> Classes { get; init; }

    /// <summary>Class-index value meaning "no label": excluded from losses and metrics.</summary>
    public required int IgnoreIndex { get; init; }

    /// <summary>task: one class per pixel (multiclass) or any set of classes (multilabel, masks as <see cref="LabelBits"/>).</summary>
    public SegmentationTask Task { get; init; } = SegmentationTask.Multiclass;

    /// <summary>Multilabel only: a folder of binary masks per class, or one mask whose bands are the classes.</summary>
    public MaskLayout MaskLayout { get; init; } = MaskLayout.Folders;

    /// <summary>
    /// Where masks are paired with images by stem: the masks folder, or for multilabel folders the first class's folder
    /// (every other class's file is then looked up by the same stem).
    /// </summary>
    public string PairedMasksDirectory => Task == SegmentationTask.Multilabel && MaskLayout == MaskLayout.Folders
        ? Path.Combine(MasksDirectory, Classes[0].Name)
        : MasksDirectory;

    /// <summary>Raw mask values (or packed RGB) that map to <see cref="IgnoreIndex"/>.</summary>
    public required IReadOnlyList<int> IgnoreValues { get; init; }
    public required SplitSpec Split { get; init; }

    /// <summary>
    /// <c>max_image_pixels</c>: an image or mask whose header declares more pixels is refused before it is decoded
    /// (<see cref="ImageFiles.DefaultMaxPixels"/> unless the description raises or lowers it).
    /// </summary>
    public long MaxImagePixels { get; init; } = ImageFiles.DefaultMaxPixels;

    public int ClassCount => Classes.Count;

    public static DatasetDescription Load(string path)
    {
        if (!File.Exists(path))
            throw new SegSharpException($"Dataset description '{path}' does not exist. Point data.dataset at a dataset YAML (see docs/dataset-format.md).");
        var root = ConfigSection.FromYaml(File.ReadAllText(path), path, "classes:");
        var description = Read(root, path);
        root.Finish();
        return description;
    }

    internal static DatasetDescription Read(ConfigSection s, string path)
    {
        string baseDir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string name = s.GetString("name", Path.GetFileNameWithoutExtension(path));
        string root = Path.GetFullPath(Path.Combine(baseDir, s.GetString("root", ".")));
        string images = s.GetString("images", "images");
        string masks = s.GetString("masks", "masks");
        int channels = s.GetInt("channels", 3, 1, MaxChannels);
        var task = s.GetEnum("task", SegmentationTask.Multiclass);
        var (encoding, classes, ignoreIndex, ignoreValues, layout) = task == SegmentationTask.Multilabel ? ReadMultiLabel(s) : ReadMultiClass(s);
        var split = ReadSplit(s.Section("split"), baseDir);
        long maxPixels = s.GetInt("max_image_pixels", (int)ImageFiles.DefaultMaxPixels, 1, int.MaxValue);
        return new DatasetDescription
        {
            Name = name, SourcePath = Path.GetFullPath(path), Root = root,
            ImagesDirectory = Path.Combine(root, images), MasksDirectory = Path.Combine(root, masks),
            Channels = channels, MaskEncoding = encoding, Classes = classes, IgnoreIndex = ignoreIndex,
            IgnoreValues = ignoreValues, Split = split, MaxImagePixels = maxPixels, Task = task, MaskLayout = layout,
        };
    }

    private static (MaskEncoding, List<ClassInfo>, int, List<int>, MaskLayout) ReadMultiClass(ConfigSection s)
    {
        var encoding = s.GetEnum("mask_encoding", MaskEncoding.Index);
        var classes = ReadClasses(s, encoding);
        int ignoreIndex = s.GetInt("ignore_index", 255, 0, 65535);
        if (ignoreIndex < classes.Count)
            throw s.Error("ignore_index", ignoreIndex.ToString(), $"a value >= the class count ({classes.Count}), e.g. 255");
        var ignoreValues = ReadIgnoreValues(s, encoding);
        // In index masks the stored value is the class index, so a pixel holding ignore_index means "no label",
        // as in torchvision and MMSegmentation (CamVid and Cityscapes masks mark void with 255).
        if (encoding == MaskEncoding.Index && !ignoreValues.Contains(ignoreIndex)) ignoreValues.Add(ignoreIndex);
        return (encoding, classes, ignoreIndex, ignoreValues, MaskLayout.Folders);
    }

    /// <summary>
    /// Multilabel masks are binary per class: 0 is absent, any other value present, and a value in ignore_values leaves
    /// the pixel out for every class. Classes are named (no values); there is no ignore_index or mask_encoding.
    /// </summary>
    private static (MaskEncoding, List<ClassInfo>, int, List<int>, MaskLayout) ReadMultiLabel(ConfigSection s)
    {
        foreach (string key in new[] { "mask_encoding", "ignore_index" })
            if (s.Has(key))
                throw s.Error(key, s.GetString(key, ""), "nothing with task: multilabel (its masks are binary: 0 absent, any other value present, " +
                    "ignore_values left out); remove it");
        var classes = ReadClasses(s, MaskEncoding.Index);
        if (classes.Count > LabelBits.MaxClasses)
            throw s.Error("classes", $"{classes.Count} classes", $"at most {LabelBits.MaxClasses} classes with task: multilabel");
        var layout = s.GetEnum("mask_layout", MaskLayout.Folders);
        var ignoreValues = s.GetInts("ignore_values", Array.Empty<int>(), null, 1).ToList();
        if (layout == MaskLayout.Bands && ignoreValues.Count > 0)
            throw s.Error("ignore_values", $"[{string.Join(", ", ignoreValues)}]", "none with mask_layout: bands (use mask_layout: folders to ignore values)");
        return (MaskEncoding.Values, classes, LabelBits.Ignore, ignoreValues, layout);
    }

    private static List<ClassInfo> ReadClasses(ConfigSection s, MaskEncoding encoding)
    {
        // A plain list of names is enough where values follow from the position (index, palette) or are not needed.
        var items = s.Sections("classes", "{ name: background, value: 0 }", scalarKey: "name");
        if (items.Count < 1) throw s.Error("classes", "[]", "a list of at least one class, e.g. '- { name: background, value: 0 }'");
        var classes = new List<ClassInfo>();
        var seen = new Dictionary<int, string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < items.Count; i++)
        {
            var c = items[i];
            string className = c.GetString("name", $"class{i}");
            if (className.Trim().Length == 0) throw c.Error("name", className, "a non-empty class name, e.g. name: road");
            // Names head report columns and metric keys: two classes of one name would be indistinguishable there.
            if (!names.Add(className)) throw c.Error("name", className, "a name not already used by another class");
            byte[] color = c.Has("color")
                ? c.GetInts("color", new[] { 0, 0, 0 }, 3, 0).Select(v => v <= 255 ? (byte)v : throw c.Error("color", v.ToString(),
                    "three values 0..255")).ToArray()
                : ClassPalette.Default(i);
            int value = encoding switch
            {
                MaskEncoding.Index => c.GetInt("value", i, i, i),
                MaskEncoding.Rgb => color[0] << 16 | color[1] << 8 | color[2],
                MaskEncoding.Palette => c.GetInt("value", i, 0, 255),
                MaskEncoding.Values => c.Has("value") ? c.GetInt("value", 0, 0, 65535) : throw c.Error("value", "(missing)",
                    "the mask value of this class, e.g. value: 255"),
            };
            if (encoding == MaskEncoding.Rgb && !c.Has("color"))
                throw c.Error("color", "(missing)", "the class's RGB colour in the masks, e.g. color: [255, 0, 0]");
            if (seen.TryGetValue(value, out string? other))
                throw c.Error(encoding == MaskEncoding.Rgb ? "color" : "value", value.ToString(), $"a value not already used by class '{other}'");
            seen[value] = className;
            classes.Add(new ClassInfo(i, className, value, color));
        }
        return classes;
    }

    private static List<int> ReadIgnoreValues(ConfigSection s, MaskEncoding encoding)
    {
        if (encoding != MaskEncoding.Rgb) return s.GetInts("ignore_values", Array.Empty<int>(), null, 0).ToList();
        // RGB ignore values are colours: [[r, g, b], ...] packed to one int each.
        var colors = s.Sections("ignore_colors", "{ color: [0, 0, 0] }");
        return colors.Select(c =>
        {
            int[] rgb = c.GetInts("color", new[] { 0, 0, 0 }, 3, 0);
            return rgb[0] << 16 | rgb[1] << 8 | rgb[2];
        }).ToList();
    }

    private static SplitSpec ReadSplit(ConfigSection s, string baseDir)
    {
        var method = s.GetEnum("method", SplitMethod.Ratio);
        if (method == SplitMethod.Lists)
        {
            return new SplitSpec(method, 0, 0,
                Path.GetFullPath(Path.Combine(baseDir, s.GetString("train", "train.txt"))),
                Path.GetFullPath(Path.Combine(baseDir, s.GetString("val", "val.txt"))));
        }
        return new SplitSpec(method, s.GetDouble("val_fraction", 0.2, 0.0, 0.95), s.GetLong("seed", 0), null, null);
    }
}
