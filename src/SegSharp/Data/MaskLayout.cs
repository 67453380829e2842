using SegSharp.Foundation;

namespace SegSharp.Data;

/// <summary>
/// mask_layout (task: multilabel): one folder of binary masks per class under the masks folder, named as the class
/// (<c>masks/road/7.png</c>), or one mask file per image whose bands are the classes in order (a multi-page TIFF).
/// </summary>
public enum MaskLayout
{
    [OptionName("folders")] Folders,
    [OptionName("bands")] Bands,
}
