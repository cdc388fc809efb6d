import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsString, Length, MaxLength } from 'class-validator';
import { PageQueryDto, Paginated } from '../../http/pagination';
import { Optional, OptionalNullable } from '../../http/transforms';
import { NoteEntity } from '../note.entity';

export const MAX_TITLE_LENGTH = 200;
export const MAX_CONTENT_LENGTH = 20_000;

export class CreateNoteDto {
  @ApiPropertyOptional({ type: String, maxLength: MAX_TITLE_LENGTH, nullable: true })
  @OptionalNullable()
  @IsString()
  @MaxLength(MAX_TITLE_LENGTH)
  title?: string | null;

  @ApiProperty({ minLength: 1, maxLength: MAX_CONTENT_LENGTH })
  @IsString()
  @Length(1, MAX_CONTENT_LENGTH)
  content!: string;
}

export class UpdateNoteDto {
  @ApiPropertyOptional({
    type: String,
    maxLength: MAX_TITLE_LENGTH,
    nullable: true,
    description: 'null clears it',
  })
  @OptionalNullable()
  @IsString()
  @MaxLength(MAX_TITLE_LENGTH)
  title?: string | null;

  @ApiPropertyOptional({ minLength: 1, maxLength: MAX_CONTENT_LENGTH })
  @Optional()
  @IsString()
  @Length(1, MAX_CONTENT_LENGTH)
  content?: string;
}

export class ListNotesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['me'], description: 'Only notes written by the caller' })
  @Optional()
  @IsIn(['me'], { message: 'author must be "me"' })
  author?: 'me';
}

export class NoteView {
  @ApiProperty({ example: '1001', description: 'bigint id, as a string' })
  id!: string;

  @ApiProperty({ type: String, nullable: true })
  title!: string | null;

  @ApiProperty()
  content!: string;

  @ApiProperty({ example: '42' })
  authorId!: string;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  updatedAt!: Date;

  static from(note: NoteEntity): NoteView {
    return {
      id: note.id,
      title: note.title,
      content: note.content,
      authorId: note.userId,
      createdAt: note.createdAt,
      updatedAt: note.updatedAt,
    };
  }
}

export class NotePageDto extends Paginated(NoteView) {}
