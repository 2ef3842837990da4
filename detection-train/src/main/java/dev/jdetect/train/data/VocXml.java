package dev.jdetect.train.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParser;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.Attributes;
import org.xml.sax.Locator;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * Parses a VOC annotation file into a small element tree with line numbers (no DTDs, secure
 * processing). Package-private.
 */
final class VocXml {

  private VocXml() {}

  static Node parse(Path xml) {
    try (InputStream in = Files.newInputStream(xml)) {
      SAXParserFactory f = SAXParserFactory.newInstance();
      f.setNamespaceAware(false);
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      SAXParser parser = f.newSAXParser();
      TreeHandler h = new TreeHandler();
      parser.parse(in, h);
      if (h.root == null) {
        throw new DatasetFormatException(xml, -1, null, "empty XML document");
      }
      return h.root;
    } catch (SAXParseException e) {
      throw new DatasetFormatException(
          xml, e.getLineNumber(), null, "malformed XML: " + e.getMessage(), e);
    } catch (SAXException | ParserConfigurationException e) {
      throw new DatasetFormatException(xml, -1, null, "malformed XML: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new DatasetFormatException(xml, -1, null, "cannot read: " + e.getMessage(), e);
    }
  }

  /** A minimal element tree with line numbers. */
  static final class Node {
    final String name;
    final int line;
    final StringBuilder text = new StringBuilder();
    final List<Node> children = new ArrayList<>();

    Node(String name, int line) {
      this.name = name;
      this.line = line;
    }

    String text() {
      return text.toString().trim();
    }

    Node child(String n) {
      for (Node c : children) {
        if (c.name.equals(n)) {
          return c;
        }
      }
      return null;
    }

    List<Node> children(String n) {
      List<Node> out = new ArrayList<>();
      for (Node c : children) {
        if (c.name.equals(n)) {
          out.add(c);
        }
      }
      return out;
    }
  }

  private static final class TreeHandler extends DefaultHandler {
    private Locator locator;
    private final Deque<Node> stack = new ArrayDeque<>();
    Node root;

    @Override
    public void setDocumentLocator(Locator locator) {
      this.locator = locator;
    }

    @Override
    public void startElement(String uri, String localName, String qName, Attributes atts) {
      Node n = new Node(qName, locator == null ? -1 : locator.getLineNumber());
      if (stack.isEmpty()) {
        root = n;
      } else {
        stack.peek().children.add(n);
      }
      stack.push(n);
    }

    @Override
    public void endElement(String uri, String localName, String qName) {
      stack.pop();
    }

    @Override
    public void characters(char[] ch, int start, int length) {
      if (!stack.isEmpty()) {
        stack.peek().text.append(ch, start, length);
      }
    }
  }
}
