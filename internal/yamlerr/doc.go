// Package yamlerr decodes YAML strictly and reports every problem with its
// position: file, line, column and YAML path (classes[3].match.dscp), plus a
// message saying what was expected.
//
// The topology and policy loaders share it so that both report errors the
// same way. Decoding walks the yaml.v3 node tree instead of using
// yaml.Decoder.KnownFields, because KnownFields stops at the first unknown
// key and gives no position for it; here every unknown key, duplicate key
// and type mismatch is collected into a List.
//
// A Document keeps the parsed node tree, so semantic checks made after
// decoding can still point at the offending node by path (Document.Errorf),
// at no cost when there is no error.
package yamlerr
