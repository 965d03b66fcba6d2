package smallparquet

import "encoding/binary"

// Thrift compact protocol type codes, as Parquet's metadata uses them.
const (
	tBoolTrue  = 1
	tBoolFalse = 2
	tByte      = 3
	tI32       = 5
	tI64       = 6
	tBinary    = 8
	tList      = 9
	tStruct    = 12
)

// compact appends Thrift compact-protocol structs to buf: just the parts Parquet's page
// headers and footer need. Fields must be written in increasing id order within a struct.
type compact struct {
	buf  []byte
	last []int16 // the last field id of each open struct, innermost last
}

func (c *compact) field(id int16, typ byte) {
	top := len(c.last) - 1
	if d := id - c.last[top]; d > 0 && d <= 15 {
		c.buf = append(c.buf, byte(d)<<4|typ)
	} else {
		c.buf = append(c.buf, typ)
		c.buf = binary.AppendVarint(c.buf, int64(id))
	}
	c.last[top] = id
}

// begin opens a struct: the top-level one, or an element of a list of structs.
func (c *compact) begin() { c.last = append(c.last, 0) }

// end closes the innermost struct.
func (c *compact) end() {
	c.buf = append(c.buf, 0)
	c.last = c.last[:len(c.last)-1]
}

// structField opens a struct-valued field; close it with end.
func (c *compact) structField(id int16) {
	c.field(id, tStruct)
	c.begin()
}

// emptyStruct writes a field whose value is a struct without fields (a union's choice).
func (c *compact) emptyStruct(id int16) {
	c.structField(id)
	c.end()
}

func (c *compact) i32(id int16, v int32) {
	c.field(id, tI32)
	c.buf = binary.AppendVarint(c.buf, int64(v))
}

func (c *compact) i64(id int16, v int64) {
	c.field(id, tI64)
	c.buf = binary.AppendVarint(c.buf, v)
}

func (c *compact) byteField(id int16, v int8) {
	c.field(id, tByte)
	c.buf = append(c.buf, byte(v))
}

func (c *compact) boolField(id int16, v bool) {
	if v {
		c.field(id, tBoolTrue)
	} else {
		c.field(id, tBoolFalse)
	}
}

func (c *compact) str(id int16, s string) {
	c.field(id, tBinary)
	c.strValue(s)
}

func (c *compact) strValue(s string) {
	c.buf = binary.AppendUvarint(c.buf, uint64(len(s)))
	c.buf = append(c.buf, s...)
}

// list starts a list field of n elements of type elem; the caller writes the elements.
func (c *compact) list(id int16, elem byte, n int) {
	c.field(id, tList)
	if n < 15 {
		c.buf = append(c.buf, byte(n)<<4|elem)
		return
	}
	c.buf = append(c.buf, 0xf0|elem)
	c.buf = binary.AppendUvarint(c.buf, uint64(n))
}

// i32Value writes an element of a list of i32.
func (c *compact) i32Value(v int32) { c.buf = binary.AppendVarint(c.buf, int64(v)) }
