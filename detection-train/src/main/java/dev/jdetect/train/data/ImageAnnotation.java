package dev.jdetect.train.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/** The annotation of one image: its id, file, size and objects (no pixels loaded). */
public final class ImageAnnotation {

  private final String id;
  private final Path file;
  private final int width;
  private final int height;
  private final List<ObjectAnnotation> objects;

  /**
   * Creates an image annotation.
   *
   * @param id the image id (VOC file stem, COCO numeric id as text, CSV file name)
   * @param file the image file
   * @param width the image width in pixels
   * @param height the image height in pixels
   * @param objects the annotated objects (copied)
   */
  public ImageAnnotation(
      String id, Path file, int width, int height, List<ObjectAnnotation> objects) {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException(
          "image size must be positive, got width=" + width + ", height=" + height);
    }
    this.id = Objects.requireNonNull(id, "id");
    this.file = Objects.requireNonNull(file, "file");
    this.width = width;
    this.height = height;
    this.objects = List.copyOf(objects);
  }

  /**
   * Returns the image id.
   *
   * @return the id
   */
  public String getId() {
    return id;
  }

  /**
   * Returns the image file.
   *
   * @return the path
   */
  public Path getFile() {
    return file;
  }

  /**
   * Returns the image width.
   *
   * @return width in pixels
   */
  public int getWidth() {
    return width;
  }

  /**
   * Returns the image height.
   *
   * @return height in pixels
   */
  public int getHeight() {
    return height;
  }

  /**
   * Returns the annotated objects.
   *
   * @return an unmodifiable list, possibly empty
   */
  public List<ObjectAnnotation> getObjects() {
    return objects;
  }

  @Override
  public String toString() {
    return "ImageAnnotation{id="
        + id
        + ", file="
        + file
        + ", "
        + width
        + "x"
        + height
        + ", objects="
        + objects.size()
        + "}";
  }
}
