package dev.jdetect.models.weights;

import ai.djl.ndarray.types.DataType;

/** PyTorch's typed storage classes that a state dict may hold, with their DJL element type. */
enum StorageType {
  FLOAT("FloatStorage", DataType.FLOAT32, 4),
  DOUBLE("DoubleStorage", DataType.FLOAT64, 8),
  HALF("HalfStorage", DataType.FLOAT16, 2),
  // DJL 0.35.1 aborts the JVM when it creates a BFLOAT16 array: bfloat16 is widened to float32
  // (exactly: bfloat16 is the upper half of a float32)
  BFLOAT16("BFloat16Storage", DataType.FLOAT32, 2),
  LONG("LongStorage", DataType.INT64, 8),
  INT("IntStorage", DataType.INT32, 4),
  // DJL's PyTorch engine aborts the JVM on INT16 arrays: int16 is widened to int32 when read
  SHORT("ShortStorage", DataType.INT32, 2),
  CHAR("CharStorage", DataType.INT8, 1),
  BYTE("ByteStorage", DataType.UINT8, 1),
  BOOL("BoolStorage", DataType.BOOLEAN, 1);

  private final String className;
  private final DataType dataType;
  private final int fileBytes;

  StorageType(String className, DataType dataType, int fileBytes) {
    this.className = className;
    this.dataType = dataType;
    this.fileBytes = fileBytes;
  }

  /** The element type of the arrays made from this storage. */
  DataType dataType() {
    return dataType;
  }

  /** Bytes per element in the file. */
  int fileBytes() {
    return fileBytes;
  }

  /**
   * Returns the storage type a pickle global names, or {@code null}.
   *
   * @param module the global's module, {@code torch}
   * @param name the class name, e.g. {@code FloatStorage}
   * @return the type, or {@code null} if the global is not a typed storage
   */
  static StorageType fromGlobal(String module, String name) {
    if (!"torch".equals(module)) {
      return null;
    }
    for (StorageType t : values()) {
      if (t.className.equals(name)) {
        return t;
      }
    }
    return null;
  }
}
