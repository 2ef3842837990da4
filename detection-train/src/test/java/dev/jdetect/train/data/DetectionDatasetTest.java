package dev.jdetect.train.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.Batch;
import dev.jdetect.train.augment.Compose;
import dev.jdetect.train.augment.Resize;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DetectionDatasetTest {

  @Test
  void batchifierPadsWithMinusOneAndUnbatchifies() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDList r0 =
          new NDList(
              m.create(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, new Shape(2, 4)),
              m.create(new long[] {3, 1}),
              m.create(new boolean[] {false, true}));
      NDList r1 =
          new NDList(
              m.create(new float[0], new Shape(0, 4)),
              m.create(new long[0]),
              m.create(new boolean[0]));
      r0.get(1).setName("labels");
      DetectionBatchifier b = new DetectionBatchifier();
      NDList batch = b.batchify(new NDList[] {r0, r1});
      assertEquals(6 + 3, m.getManagedArrays().size()); // inputs + outputs, no temporaries
      assertEquals(new Shape(2, 2, 4), batch.get(0).getShape());
      assertArrayEquals(
          new float[] {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0},
          batch.get(0).toFloatArray());
      assertArrayEquals(new long[] {3, 1, -1, -1}, batch.get(1).toLongArray());
      assertArrayEquals(new boolean[] {false, true, false, false}, batch.get(2).toBooleanArray());
      assertEquals("labels", batch.get(1).getName());
      assertArrayEquals(new int[] {2, 0}, DetectionBatchifier.countBoxes(batch.get(1)));

      NDList[] back = b.unbatchify(batch);
      assertEquals(new Shape(2, 4), back[0].get(0).getShape());
      assertArrayEquals(new long[] {3, 1}, back[0].get(1).toLongArray());
      assertEquals(new Shape(0, 4), back[1].get(0).getShape());
      assertEquals(new Shape(0), back[1].get(1).getShape());

      NDList fixed = new DetectionBatchifier(4).batchify(new NDList[] {r0, r1});
      assertEquals(new Shape(2, 4), fixed.get(1).getShape());
    }
  }

  @Test
  void paddedImageBatchifierPadsBottomRightAndRemembersSizes() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.ones(new Shape(3, 2, 5));
      NDArray b = m.full(new Shape(3, 4, 3), 0.5f);
      PaddedImageBatchifier p = new PaddedImageBatchifier(4);
      NDList batch = p.batchify(new NDList[] {new NDList(a), new NDList(b)});
      assertEquals(2 + 2, m.getManagedArrays().size()); // inputs + outputs, no temporaries
      // max 4 x 5 rounded up to multiples of 4 -> 4 x 8
      assertEquals(new Shape(2, 3, 4, 8), batch.get(0).getShape());
      assertArrayEquals(new long[] {2, 5, 4, 3}, batch.get(1).toLongArray());
      float[] v = batch.get(0).toFloatArray();
      assertEquals(1f, v[0]); // image 0, (0, 0)
      assertEquals(1f, v[4]); // image 0, (0, 4)
      assertEquals(0f, v[5]); // image 0, (0, 5): padding
      assertEquals(0f, v[2 * 8]); // image 0, row 2: padding
      assertEquals(0.5f, v[3 * 32 + 3 * 8 + 2]); // image 1, (3, 2)
      assertEquals(0f, v[3 * 32 + 3 * 8 + 3]); // image 1, (3, 3): padding
      NDList[] back = p.unbatchify(batch);
      assertEquals(new Shape(3, 2, 5), back[0].get(0).getShape());
      assertEquals(new Shape(3, 4, 3), back[1].get(0).getShape());
      assertArrayEquals(b.toFloatArray(), back[1].get(0).toFloatArray());
    }
  }

  @Test
  void iteratesBatchesThroughDjl(@TempDir Path dir) throws Exception {
    SyntheticDataGenerator g =
        SyntheticDataGenerator.builder()
            .optKind(SyntheticDataGenerator.Kind.SHAPES)
            .optSeed(11)
            .optImageSize(64)
            .optNumImages(5)
            .build();
    g.writeVoc(dir);
    AnnotationSet set = VocReader.builder().setRoot(dir).build().read();
    DetectionDataset ds =
        DetectionDataset.builder()
            .setAnnotations(set)
            .optTransform(new Resize(32, 32))
            .setSampling(2, false)
            .build();
    assertEquals(5, ds.size());
    int images = 0;
    try (NDManager m = NDManager.newBaseManager()) {
      for (Batch batch : ds.getData(m)) {
        NDArray data = batch.getData().get(0);
        NDList labels = batch.getLabels();
        long bs = data.getShape().get(0);
        assertEquals(new Shape(bs, 3, 32, 32), data.getShape());
        assertEquals(DataType.FLOAT32, data.getDataType());
        long nmax = labels.get(0).getShape().get(1);
        assertEquals(new Shape(bs, nmax, 4), labels.get(0).getShape());
        assertEquals(new Shape(bs, nmax), labels.get(1).getShape());
        assertEquals(DataType.INT64, labels.get(1).getDataType());
        long[] l = labels.get(1).toLongArray();
        int[] counts = DetectionBatchifier.countBoxes(labels.get(1));
        for (int i = 0; i < bs; i++) {
          ImageAnnotation ann = set.getImages().get(images + i);
          assertEquals(ann.getObjects().size(), counts[i]);
          for (int k = 0; k < nmax; k++) {
            long v = l[(int) (i * nmax + k)];
            if (k < counts[i]) {
              assertEquals(ann.getObjects().get(k).getLabel(), v);
            } else {
              assertEquals(-1, v);
            }
          }
        }
        // boxes scaled 64 -> 32
        float[] b = labels.get(0).toFloatArray();
        assertEquals(set.getImages().get(images).getObjects().get(0).getX1() / 2, b[0]);
        images += (int) bs;
        batch.close();
      }
    }
    assertEquals(5, images);
  }

  @Test
  void difficultObjectsAreLeftOutOfTrainingTargets(@TempDir Path dir) throws Exception {
    ReadersTest.voc(
        dir,
        ReadersTest.vocXml(
            64,
            48,
            ReadersTest.vocObject("dog", 0, "1", "1", "10", "10")
                + ReadersTest.vocObject("cat", 1, "5", "5", "20", "20")));
    AnnotationSet set = VocReader.builder().setRoot(dir).build().read();
    try (NDManager m = NDManager.newBaseManager()) {
      DetectionDataset train =
          DetectionDataset.builder().setAnnotations(set).setSampling(1, false).build();
      DetectionSample s = train.getSample(m, 0);
      assertArrayEquals(new long[] {12}, s.getLabels().toLongArray());
      assertEquals(new Shape(3, 48, 64), s.getImage().getShape());
      DetectionDataset eval =
          DetectionDataset.builder()
              .setAnnotations(set)
              .optIncludeDifficult(true)
              .setSampling(1, false)
              .build();
      DetectionSample e = eval.getRawSample(m, 0);
      assertArrayEquals(new long[] {12, 8}, e.getLabels().toLongArray());
      assertArrayEquals(new boolean[] {false, true}, e.getDifficult().toBooleanArray());
    }
  }

  @Test
  void loadingLeavesOnlyTheSampleArraysInTheCallersManager(@TempDir Path dir) throws Exception {
    SyntheticDataGenerator.builder()
        .optKind(SyntheticDataGenerator.Kind.SHAPES)
        .optSeed(4)
        .optImageSize(64)
        .optNumImages(3)
        .build()
        .writeVoc(dir);
    AnnotationSet set = VocReader.builder().setRoot(dir).build().read();
    DetectionDataset ds =
        DetectionDataset.builder()
            .setAnnotations(set)
            .optTransform(Compose.ssdTraining(32, 32))
            .setSampling(1, false)
            .build();
    try (NDManager m = NDManager.newBaseManager()) {
      for (int round = 0; round < 20; round++) {
        try (NDManager scope = m.newSubManager()) {
          ds.get(scope, round % 3);
          // image, boxes, labels, difficult, crowd: no intermediate of the transforms is left
          assertEquals(5, scope.getManagedArrays().size());
        }
      }
      assertEquals(0, m.getManagedArrays().size());
    }
  }

  @Test
  void augmentationIsSeededPerItemAndEpoch(@TempDir Path dir) throws Exception {
    SyntheticDataGenerator.builder()
        .optSeed(2)
        .optImageSize(64)
        .optNumImages(2)
        .build()
        .writeCsv(dir);
    AnnotationSet set = CsvReader.builder().setCsvFile(dir.resolve("label.csv")).build().read();
    try (NDManager m = NDManager.newBaseManager()) {
      List<float[]> first = new ArrayList<>();
      List<float[]> second = new ArrayList<>();
      for (List<float[]> out : List.of(first, second)) {
        DetectionDataset ds =
            DetectionDataset.builder()
                .setAnnotations(set)
                .optTransform(Compose.ssdTraining(32, 32))
                .optSeed(99)
                .setSampling(1, false)
                .build();
        for (int epoch = 0; epoch < 4; epoch++) {
          out.add(ds.getSample(m, 0).getBoxes().toFloatArray());
        }
        // setEpoch(2) replays epoch 2
        ds.setEpoch(2);
        out.add(ds.getSample(m, 0).getBoxes().toFloatArray());
      }
      for (int i = 0; i < first.size(); i++) {
        assertArrayEquals(first.get(i), second.get(i));
      }
      assertArrayEquals(first.get(2), first.get(4));
      boolean differs = false;
      for (int i = 1; i < 4; i++) {
        differs |= !java.util.Arrays.equals(first.get(0), first.get(i));
      }
      assertTrue(differs, "epochs see different augmentations");
      assertFalse(set.getImages().isEmpty());
    }
  }
}
